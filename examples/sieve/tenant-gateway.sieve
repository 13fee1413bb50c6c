# A tenant's inbound gateway policy built on the operator's shared rules.
# 1. The shared attachment rule (examples/sieve/global/executable-attachments.sieve) quarantines
#    executables, also inside zip archives.
# 2. When it did, the tenant's security desk is told by mail (RFC 5435 enotify, mailto); the
#    target domain must be in the tenant's enotify allow-list (sieve option enotify.domains).
# 3. Large messages to the board get a header the mail client files on.
require ["include", "variables", "enotify", "envelope", "editheader"];
global "blocked";

include :global "executable-attachments";

if not string :is "${blocked}" "" {
    if envelope :matches "from" "*" { set "sender" "${1}"; }
    notify :importance "1"
           :message "Quarantined a message from ${sender} with ${blocked}"
           "mailto:security@corp.example?subject=Executable%20quarantined";
    stop;
}

if allof (envelope :localpart :is "to" "board", size :over 5M) {
    addheader "X-Large-Board-Mail" "yes";
}
