"""The keystore's own maintenance (the CLI's ``keymanager keystore``): importing the reference's keys."""
