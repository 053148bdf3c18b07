"""Print one of the README's set-up commands, exactly as a newcomer reads it.

``python .ci/readme_command.py demo`` prints the command of the ``bash`` block
that runs ``python -m sklearn_xcnn``; ``... test`` the one that runs
``pytest``. Both are read from the "Set up" section of README.md, so that
``.ci/run`` runs what the README says and the two can never drift apart.
"""

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
MARKERS = {"demo": "python -m sklearn_xcnn", "test": "pytest"}


def set_up_commands(text):
    """The ``bash`` blocks of the README's "## Set up" section, in order."""
    section = re.search(r"^## Set up\n(.*?)(?=^## )", text, re.M | re.S)
    if section is None:
        raise SystemExit("README.md has no '## Set up' section")
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", section[1], re.S)]


def main(which):
    blocks = [b for b in set_up_commands(README.read_text()) if MARKERS[which] in b]
    if len(blocks) != 1:
        raise SystemExit(
            f"README.md's Set up section must hold exactly one bash block with "
            f"{MARKERS[which]!r}; found {len(blocks)}"
        )
    print(blocks[0])


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in MARKERS:
        raise SystemExit(f"usage: readme_command.py {{{','.join(MARKERS)}}}")
    main(sys.argv[1])
