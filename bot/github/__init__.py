"""The only code that talks to GitHub: auth, fetching snapshots, publishing results."""
