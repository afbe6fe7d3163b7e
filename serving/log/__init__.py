"""The prediction log: the group commit writer (logger), reading the log and quarantine
for people (reading), and labels that arrive later (feedback)."""
