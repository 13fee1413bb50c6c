// Rewrites the README's SMTP reply table from src/message/replies.ts.
import { readFileSync, writeFileSync } from "node:fs";
import { withReplyTable } from "../src/message/reply-table.ts";

const file = new URL("../README.md", import.meta.url);
writeFileSync(file, withReplyTable(readFileSync(file, "utf8")));
console.log("README.md: reply table written");
