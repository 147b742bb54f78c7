"""The one error a parser raises for a file it cannot read at all."""


class ExportFormatError(ValueError):
    """A file that cannot be read as an export, located to file, line and column."""

    def __init__(self, source: str, line: int, column: str | None, reason: str):
        self.source, self.line, self.column, self.reason = source, line, column, reason
        where = f"{source}, line {line}" + (f", column '{column}'" if column else "")
        super().__init__(f"{where}: {reason}")
