"""One module per paper study, each writing its RESULTS.md section from campaign records."""
