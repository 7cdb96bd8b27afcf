/**
 * Splits a SQL file into its statements at `;`, skipping `;` inside quotes ('...', "...", `...`) and comments (`-- `,
 * `#`, `/* *\/`). Used only to NAME the statement a migration failed at (the file itself runs as one multi-statement
 * query, so a stored program whose body holds `;` still runs; its name in an error may then be off).
 */
export function splitSqlStatements(sql: string): string[] {
  const statements: string[] = [];
  let i = 0;
  let code = -1; // where the first character that is not space or comment since the last `;` is
  const push = (end: number) => {
    if (code >= 0) statements.push(sql.slice(code, end).trim());
    code = -1;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'" || c === '"' || c === '`') {
      if (code < 0) code = i;
      i += 1;
      while (i < sql.length && sql[i] !== c) i += sql[i] === '\\' && c !== '`' ? 2 : 1;
      i += 1;
    } else if ((c === '-' && next === '-' && /\s/.test(sql[i + 2] ?? ' ')) || c === '#') {
      while (i < sql.length && sql[i] !== '\n') i += 1;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (c === ';') {
      push(i);
      i += 1;
    } else {
      if (code < 0 && !/\s/.test(c)) code = i;
      i += 1;
    }
  }
  push(sql.length);
  return statements;
}

/** A statement for an error message: whitespace collapsed, at most `max` characters. */
export function statementExcerpt(statement: string, max = 200): string {
  const flat = statement.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
