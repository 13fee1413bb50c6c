// Test builds only (see src/fault.ts): wraps a Store so that every method has two crash
// points, `store.<method>.before` and `store.<method>.after` (once its promise resolved, i.e.
// the write is committed). Lets the crash matrix kill a node between any two store steps of a
// release, a hold or a publish without touching those modules.
import { faultPoint, faultsArmed } from "../fault.ts";
import type { Store } from "./types.ts";

export function withStoreFaults(store: Store): Store {
  if (!faultsArmed) return store;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function" || typeof prop !== "string") return v;
      return (...args: unknown[]) => {
        faultPoint(`store.${prop}.before`);
        const out = (v as (...a: unknown[]) => unknown).apply(target, args);
        if (out instanceof Promise)
          return out.then((x) => {
            faultPoint(`store.${prop}.after`);
            return x;
          });
        faultPoint(`store.${prop}.after`);
        return out;
      };
    },
  });
}
