"""The administrator's console (issue 17): key inventory, key policies, the audit trail."""
