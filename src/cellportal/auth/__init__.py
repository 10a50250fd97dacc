"""Who is asking (principals) and what they may do (policy): one `can()` decides every access."""
