// Small builders for the JSON schemas routes declare (validated by Fastify, published in
// the OpenAPI document). Only what the console API uses; not a general schema library.

export const str = (extra: Record<string, unknown> = {}) => ({ type: "string", ...extra });
export const bool = { type: "boolean" };
export const int = (min = 0, max = 10_000) => ({ type: "integer", minimum: min, maximum: max });

export function obj(properties: Record<string, unknown>, required: string[] = []) {
  return { type: "object", properties, required, additionalProperties: false };
}

export const idParams = obj({ id: str({ maxLength: 200 }) }, ["id"]);
export const recipientsBody = obj({
  recipients: { type: "array", items: str({ maxLength: 320 }), minItems: 1, maxItems: 1000 },
});
