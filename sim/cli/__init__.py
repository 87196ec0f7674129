"""The command line, one module per command (``sim/__main__.py`` builds the parser from them).

Each module has ``add_command(subparsers)`` and the function that runs the command; it imports
what the command needs when it runs, so ``hedgesim --help`` starts fast. Commands are thin: they
turn options into typed arguments of the Python API (``sim.run``, ``sim.sweep``, ...) and print.
"""
