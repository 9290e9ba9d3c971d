"""Entry point and the gui / figure / movie / self-test / bench --gui commands."""
