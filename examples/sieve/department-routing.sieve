# Route departmental addresses of corp.example to the teams that handle them.
# support@ / helpdesk@ go to the ticket system; sales+<region>@ go to that region's sales desk
# (RFC 5233 subaddress), plain sales@ to the whole team; legal@ is delivered and also archived.
require ["envelope", "subaddress", "variables", "copy"];

if envelope :domain :is "to" "corp.example" {
    if envelope :user :is "to" ["support", "helpdesk"] {
        redirect "tickets@helpdesk.corp.example";
    } elsif envelope :user :is "to" "sales" {
        if envelope :detail :matches "to" ["emea", "apac", "amer"] {
            set :lower "region" "${0}";
            redirect "sales-${region}@corp.example";
        } else {
            redirect "sales-team@corp.example";
        }
    } elsif envelope :user :is "to" "legal" {
        redirect :copy "legal-archive@records.corp.example";
    }
}
