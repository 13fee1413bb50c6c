// The filter registry: filters known to this build, by name. Passed explicitly (no globals);
// the configuration loader uses it to refuse unknown filter names and bad options.
import type { FilterCatalog } from "../config/load.ts";
import type { Filter } from "./types.ts";

export class FilterRegistry implements FilterCatalog {
  private readonly byName = new Map<string, Filter>();

  constructor(filters: Filter[] = []) {
    for (const f of filters) this.add(f);
  }

  add(f: Filter): void {
    if (this.byName.has(f.name)) throw new Error(`filter "${f.name}" registered twice`);
    this.byName.set(f.name, f);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): Filter | undefined {
    return this.byName.get(name);
  }

  parseOptions(name: string, raw: unknown): Record<string, unknown> {
    const f = this.byName.get(name);
    if (!f) throw new Error(`unknown filter "${name}"`);
    return f.parseOptions(raw);
  }

  all(): Filter[] {
    return [...this.byName.values()];
  }
}
