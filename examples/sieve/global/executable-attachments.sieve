# Shared by the operator for every tenant (include :global "executable-attachments").
# Quarantines a message carrying an executable: as an attachment or inside a zip attachment
# (vnd.sluice.archive shows the files in archives as MIME parts). An executable is recognised by
# its MIME type (detected for archive members) or by its file name, RFC 2231-encoded names included.
# Sets the global variable "blocked" to the offending file name for the including script.
require ["foreverypart", "mime", "variables", "include", "vnd.sluice.archive", "vnd.sluice.quarantine"];
global "blocked";

foreverypart {
    if anyof (
        header :mime :contenttype "Content-Type"
            ["application/x-msdownload", "application/x-dosexec", "application/x-executable",
             "application/vnd.microsoft.portable-executable"],
        header :mime :param ["filename", "name"] :matches ["Content-Disposition", "Content-Type"]
            ["*.exe", "*.scr", "*.bat", "*.cmd", "*.com", "*.pif", "*.vbs", "*.js", "*.msi", "*.jar"]
    ) {
        if header :mime :param ["filename", "name"] :matches ["Content-Disposition", "Content-Type"] "*" {
            set "blocked" "${1}";
        } else {
            set "blocked" "(unnamed)";
        }
        quarantine :reason "executable attachment ${blocked}";
        break;
    }
}
