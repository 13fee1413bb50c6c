// Typed errors of the spam filters: a model that cannot be loaded, and an external engine
// (spamd, rspamd) that failed or timed out. The pipeline turns them into on_error.

export class SpamModelError extends Error {
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(`spam model ${path}: ${message}`, options);
    this.name = "SpamModelError";
    this.path = path;
  }
}

export class SpamEngineError extends Error {
  readonly engine: "spamassassin" | "rspamd";
  readonly temporary: boolean;
  constructor(engine: "spamassassin" | "rspamd", message: string, temporary = true, options?: ErrorOptions) {
    super(`${engine}: ${message}`, options);
    this.name = "SpamEngineError";
    this.engine = engine;
    this.temporary = temporary;
  }
}

export class TrainingInputError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "TrainingInputError";
    this.path = path;
  }
}
