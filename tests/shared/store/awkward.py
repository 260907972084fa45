"""Names and business keys that a careless key scheme would break, collide or inject through."""

AWKWARD = [
    "a/b",
    "a\\b",
    "a#b",
    "a?b",
    "it's",
    'say "hi"',
    "tab\there",
    "new\nline",
    "nul\x00byte",
    "100%",
    "~7E",
    "~",
    "ä/ö",
    "Ünïcødé ✓",
    "emoji 🚀",
    "",
    " ",
    ".",
    "..",
    "x' or PartitionKey ne '",
]
