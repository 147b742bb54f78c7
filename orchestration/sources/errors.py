"""The errors of the parsers: a file that cannot be read at all, a line that cannot be used."""


class ExportFormatError(ValueError):
    """A file that cannot be read as an export, located to file, line and column (no line: the
    file as a whole, such as one too large to read)."""

    def __init__(self, source: str, line: int | None, column: str | None, reason: str):
        self.source, self.line, self.column, self.reason = source, line, column, reason
        where = (
            source + (f", line {line}" if line else "") + (f", column '{column}'" if column else "")
        )
        super().__init__(f"{where}: {reason}")


class RowError(ValueError):
    """A value on one line that cannot be interpreted: the line becomes a reject."""
