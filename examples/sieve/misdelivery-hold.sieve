# Outbound mis-delivery prevention, evaluated once per recipient of a submitted message.
# A message that carries an attachment and goes to a domain outside the tenant's internal
# domains is held for 5 minutes, and the sender is told so they can still cancel it.
# "tag:internal-domains" is the tenant's list of its own domains (RFC 6134 external list).
require ["envelope", "extlists", "body", "vnd.sluice.hold", "vnd.sluice.notify"];

if allof (
    not envelope :domain :list "to" "tag:internal-domains",
    anyof (
        # Any non-text MIME part counts as an attachment ...
        body :content ["application", "image", "audio", "video", "message"] :contains "",
        # ... and so does a text part the sender attached as a file.
        body :raw :contains "Content-Disposition: attachment"
    )
) {
    hold :minutes 5 :reason "attachment to an external recipient";
    notify_template :to "sender" "misdelivery-hold";
}
