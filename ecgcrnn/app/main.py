"""The ``ecgcrnn`` command: ``ecgcrnn COMMAND [ARGUMENTS]`` runs one of :data:`COMMANDS`.

Each command hands its arguments to its module's own ``main``, which takes the same ones when run as
``python -m ecgcrnn.app.show``, ``python -m ecgcrnn.app.measure``, ``python -m ecgcrnn.app.demo`` or
``python -m ecgcrnn.synthetic``. ``python -m ecgcrnn`` is this command; ``ecgcrnn --version`` prints the
package's version.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import ecgcrnn

COMMANDS = {  # name: (the module whose main it runs, its line in --help)
    "show": ("ecgcrnn.app.show", "draw, print or write one recording's reading"),
    "measure": ("ecgcrnn.app.measure", "measure every record of a folder into one table"),
    "demo": ("ecgcrnn.app.demo", "the method end to end on synthetic data"),
    "synthetic": ("ecgcrnn.synthetic.generator", "write synthetic 12-lead records"),
}


def main(argv=None, prog: str = "ecgcrnn") -> int:
    """Run the command named in ``argv`` (``sys.argv[1:]`` when None) with the arguments after it.

    Returns
    -------
    int
        The command's exit status (0 when its ``main`` returns None).
    """
    width = max(map(len, COMMANDS)) + 2
    listed = "\n".join(f"  {name:<{width}}{line}" for name, (_, line) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog=prog,
        usage="%(prog)s [-h] [--version] COMMAND [ARGUMENTS]",
        description=ecgcrnn.__doc__.splitlines()[0],
        epilog=f"commands:\n{listed}\n\n'{prog} COMMAND --help' gives a command's arguments.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {ecgcrnn.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, help=argparse.SUPPRESS)
    for name in COMMANDS:
        commands.add_parser(name, add_help=False)  # its own main reads its arguments, -h too
    args, arguments = parser.parse_known_args(argv)
    # Imported here, and only the command that runs: the commands' modules pull in the pipeline's scientific
    # stack (seconds), which `ecgcrnn --help` should not wait for, and a command imports no more than it
    # uses (`ecgcrnn measure` never TensorFlow).
    module = importlib.import_module(COMMANDS[args.command][0])
    return module.main(arguments, prog=f"{prog} {args.command}") or 0


if __name__ == "__main__":
    sys.exit(main())
