# lab.example accepts no executable attachments: such messages are dropped and the domain's
# admin is notified. Executables are recognised by MIME type or by a quoted attachment file name
# (name="..." / filename="..."); RFC 2231 encoded names (filename*=) are not inspected.
require ["envelope", "body", "vnd.sluice.notify"];

if allof (
    envelope :domain :is "to" "lab.example",
    anyof (
        body :content ["application/x-msdownload", "application/x-dosexec", "application/x-msdos-program",
                       "application/vnd.microsoft.portable-executable", "application/x-executable"]
             :contains "",
        body :raw :matches ["*name=\"*.exe\"*", "*name=\"*.scr\"*", "*name=\"*.bat\"*", "*name=\"*.cmd\"*",
                            "*name=\"*.com\"*", "*name=\"*.pif\"*", "*name=\"*.vbs\"*", "*name=\"*.js\"*",
                            "*name=\"*.msi\"*", "*name=\"*.jar\"*"]
    )
) {
    discard;
    notify_template :to "admin" "executable-dropped";
}
