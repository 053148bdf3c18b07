"""Reporting a fit as it runs, and stopping it cleanly on Ctrl-C."""

import signal
import sys
import threading
import warnings
from contextlib import contextmanager


@contextmanager
def interrupt_guard():
    """Turn Ctrl-C into a flag that the fit loop checks after each mini-batch.

    Yields a one-item list whose entry becomes True on the first SIGINT; a
    second SIGINT raises :class:`KeyboardInterrupt` as usual. Outside the main
    thread signals cannot be caught, and Ctrl-C behaves as usual.
    """
    flag = [False]
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag[0]:  # a second Ctrl-C aborts at once
            raise KeyboardInterrupt
        flag[0] = True

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # e.g. some embedded interpreters
        yield flag
        return
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _warn_interrupted(n_iter, stacklevel):
    warnings.warn(
        f"Training interrupted by the user (KeyboardInterrupt) after {n_iter} "
        "epoch(s); the model holds the weights reached so far and can be used.",
        UserWarning,
        stacklevel=stacklevel,
    )


class Progress:
    """Report epochs: a tqdm bar (verbose=1, when tqdm is installed) or lines.

    ``verbose >= 2`` prints a line per epoch even with the bar. With
    ``show_rate`` (a learning-rate schedule runs) the lines and the bar show
    the learning rate of each epoch.
    """

    def __init__(self, verbose, total, show_rate=False):
        self.verbose = verbose
        self.show_rate = show_rate
        self.bar = None
        if verbose and total > 1:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, desc="epochs", unit="epoch", leave=True)

    def epoch(self, n_iter, loss, val_score, seconds, rate=None):
        if not self.verbose:
            return
        show_rate = self.show_rate and rate is not None
        line = f"Iteration {n_iter}, loss = {loss:.8f}"
        if val_score is not None:
            line += f", validation score = {val_score:.6f}"
        if show_rate:
            line += f", learning rate = {rate:.6g}"
        line += f", time = {seconds:.3f}s"
        if self.bar is None:
            print(line)
            sys.stdout.flush()
            return
        self.bar.update(1)
        postfix = {"loss": f"{loss:.4g}"}
        if val_score is not None:
            postfix["val"] = f"{val_score:.4f}"
        if show_rate:
            postfix["lr"] = f"{rate:.3g}"
        self.bar.set_postfix(postfix)
        if self.verbose >= 2:
            self.bar.write(line)

    def message(self, text):
        if not self.verbose:
            return
        if self.bar is None:
            print(text)
        else:
            self.bar.write(text)

    def close(self):
        if self.bar is not None:
            self.bar.close()
