import { describe, expect, it } from 'vitest';
import { splitSqlStatements, statementExcerpt } from '../../lib/functions/sqlStatements.js';

describe('Function: splitSqlStatements()', () => {
  it('splits at semicolons outside quotes and comments, dropping comment-only pieces', () => {
    const sql = [
      '-- header; not a statement',
      'CREATE TABLE a (id INT);',
      "INSERT INTO a VALUES (1); /* x; y */ INSERT INTO t VALUES ('a;b', \"c;d\", `e;f`);",
      "# hash comment; too\nUPDATE a SET id = 2 WHERE id = 'it''s; fine' ;",
      "SELECT 'back\\'slash; still quoted';",
      '-- trailing comment; nothing after',
    ].join('\n');
    expect(splitSqlStatements(sql)).toEqual([
      'CREATE TABLE a (id INT)',
      'INSERT INTO a VALUES (1)',
      "INSERT INTO t VALUES ('a;b', \"c;d\", `e;f`)",
      "UPDATE a SET id = 2 WHERE id = 'it''s; fine'",
      "SELECT 'back\\'slash; still quoted'",
    ]);
  });

  it('keeps a last statement without a semicolon and treats "--x" (no space) as code', () => {
    expect(splitSqlStatements('SELECT 1--1\n;SELECT 2')).toEqual(['SELECT 1--1', 'SELECT 2']);
  });
});

describe('Function: statementExcerpt()', () => {
  it('collapses whitespace and cuts long statements to 200 characters with an ellipsis', () => {
    expect(statementExcerpt('CREATE TABLE a (\n  id INT\n)')).toBe('CREATE TABLE a ( id INT )');
    const long = statementExcerpt(`INSERT INTO a VALUES ${'(1),'.repeat(100)}(1)`);
    expect(long).toHaveLength(200);
    expect(long.endsWith('…')).toBe(true);
  });
});
