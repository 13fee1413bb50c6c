// The quick-start configuration `sluice serve` uses when no file is given: tenant
// example.com with alice (spam filter ON) and bob (spam filter OFF), delivering to a
// Maildir under ./var, so a newcomer sees both outcomes with the first message.

export const QUICKSTART_YAML = `# Sluice quick-start configuration (embedded defaults)
node:
  name: quickstart
  role: default
store: sqlite:./var/sluice.db
delivery: maildir:./var/maildir
policy:
  thresholds: { tag: 5, quarantine: 10, reject: 20 }
tenants:
  - id: example
    domains: [example.com]
    language: en
    # The spam classifier learns at this site from mail whose class other evidence backs.
    policy:
      filters:
        spam-classifier: { options: { autolearn: { enabled: true } } }
    users:
      - address: alice@example.com
        spam_filter: true
      - address: bob@example.com
        spam_filter: false
`;
