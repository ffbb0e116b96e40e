"""The SQL files jobs write for dagctl's `sql` operator (`sql_file`): plain
SQL that SQLite, PostgreSQL and MariaDB/MySQL all run, one statement after
another, separated by `;`."""


def literal(value):
    """NULL, an integer as is, anything else as a quoted string."""
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def insert(table, rows, columns=None):
    """One multi-row INSERT of `rows` (tuples), as a list of statements: [] for no rows."""
    if not rows:
        return []
    names = f" ({', '.join(columns)})" if columns else ""
    values = ",\n".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
    return [f"INSERT INTO {table}{names} VALUES\n{values}"]


def write(path, statements):
    with open(path, "w") as f:
        f.write(";\n".join(statements) + "\n")
