"""Scripts `panel serve` runs once per session; the file names are the URL slugs."""
