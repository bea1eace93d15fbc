"""The policy documents registry and audit log, the change log workers follow, and policy-change alerts."""
