# Tag the Subject by spam verdict: "[SPAM]" for certain spam, "[SPAM?]" for likely spam.
# Uses the RFC 5235 spamtest value (1..10) and, as a second signal, the Bayes symbol score.
# The original Subject is kept behind the tag; an already tagged Subject is left alone.
require ["spamtest", "relational", "comparator-i;ascii-numeric", "editheader", "variables",
         "vnd.sluice.symbols"];

if anyof (spamtest :value "ge" :comparator "i;ascii-numeric" "8", symbol :over 9 "BAYES_SPAM") {
    set "tag" "[SPAM]";
} elsif anyof (spamtest :value "ge" :comparator "i;ascii-numeric" "5", symbol :over 5 "BAYES_SPAM") {
    set "tag" "[SPAM?]";
}

if allof (not string :is "${tag}" "", not header :contains "Subject" "${tag}") {
    if header :matches "Subject" "*" {
        set "subject" "${1}";
    }
    deleteheader "Subject";
    addheader :last "Subject" "${tag} ${subject}";
    addheader "X-Spam-Flag" "YES";
}
