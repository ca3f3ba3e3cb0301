"""Page scripts: `panel serve` runs one per browser session; its module name is the URL slug."""
