"""Made-up demonstration data: the unit's six sites, fictional staff, example stories."""
