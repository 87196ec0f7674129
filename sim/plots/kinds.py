"""The figures hedgesim draws and the formats it writes (a module without imports, so the command
line can offer them without loading matplotlib)."""

RUN_KINDS: tuple[str, ...] = ("timeline", "network", "partners", "counterfactual")
SWEEP_KINDS: tuple[str, ...] = ("phase", "sensitivity")
KINDS: tuple[str, ...] = RUN_KINDS + SWEEP_KINDS
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
