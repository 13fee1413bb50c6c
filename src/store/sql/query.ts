// SQL text with its values kept apart: `sql` builds a statement from a template, nesting other
// fragments; a dialect renders the placeholders (`?` or `$n`). Not a query builder: the SQL
// is written out, only the pieces that vary (filters, lists) are composed.

export class Query {
  readonly parts: readonly string[];
  readonly values: readonly unknown[];

  constructor(parts: readonly string[], values: readonly unknown[]) {
    this.parts = parts;
    this.values = values;
  }

  /** Text with placeholders from `ph(index)`, and the values in order. */
  render(ph: (i: number) => string): { text: string; values: unknown[] } {
    let text = this.parts[0]!;
    for (let i = 0; i < this.values.length; i++) text += ph(i) + this.parts[i + 1]!;
    return { text, values: [...this.values] };
  }
}

/** A statement: `${value}` becomes a parameter, `${query}` is spliced in. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Query {
  const parts = [strings[0]!];
  const vals: unknown[] = [];
  values.forEach((v, i) => {
    if (v instanceof Query) {
      parts[parts.length - 1] += v.parts[0]!;
      v.values.forEach((x, j) => {
        vals.push(x);
        parts.push(v.parts[j + 1]!);
      });
      parts[parts.length - 1] += strings[i + 1]!;
    } else {
      vals.push(v);
      parts.push(strings[i + 1]!);
    }
  });
  return new Query(parts, vals);
}

/** Trusted text (identifiers, keywords): never a value from outside. */
export const raw = (text: string): Query => new Query([text], []);

export function join(qs: readonly Query[], sep: string): Query {
  return qs.reduce((acc, q, i) => (i ? sql`${acc}${raw(sep)}${q}` : q), raw(""));
}

/** `WHERE a AND b …` of the conditions given (nothing when none is). */
export function where(conds: readonly (Query | null | false | undefined)[]): Query {
  const qs = conds.filter((c): c is Query => c instanceof Query);
  return qs.length ? sql` WHERE ${join(qs, " AND ")}` : raw("");
}

/** `(a, b), (c, d)` for a multi-row INSERT … VALUES. */
export function rows(values: readonly (readonly unknown[])[]): Query {
  return join(
    values.map(
      (r) =>
        sql`(${join(
          r.map((v) => sql`${v}`),
          ", ",
        )})`,
    ),
    ", ",
  );
}
