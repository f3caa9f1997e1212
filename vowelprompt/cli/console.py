"""What every verb shows on the terminal: the help layout, the progress bar, counted nouns."""

from __future__ import annotations

import argparse
import sys


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Epilogs as written (their examples keep their lines), and every option's default after its help,
    unless the help already names it or there is none (a flag that is off, an option that is unset)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        unset = default is None or default is False or default == [] or default == argparse.SUPPRESS
        if unset or not action.option_strings or "%(default)" in text:
            return text
        return f"{text} (default: %(default)s)"


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``n`` and ``noun`` agreeing: ``plural(1, "row")`` is "1 row", ``plural(2, "row")`` is "2 rows"."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"


def progress(total: int, quiet: bool, desc: str, unit: str = "file"):
    """A progress bar on stderr, shown only for two items or more and without ``--quiet``."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=quiet or total < 2, file=sys.stderr, leave=False)


def add_verb(verbs, name: str, summary: str, parents: list, epilog: str | None = None):
    """Register verb ``name`` with the ``verbs`` subparsers: ``summary`` is its line in ``vowelprompt --help``
    and the description of its own ``--help``, whose options show their defaults."""
    description = summary[0].upper() + summary[1:] + "."
    return verbs.add_parser(
        name,
        parents=parents,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=HelpFormatter,
    )
