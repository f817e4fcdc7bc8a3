"""The inspector's screens: browse, detail, confirmation and help."""
