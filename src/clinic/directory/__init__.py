"""Sites, practitioners, specialties and the services offered where ("find a doctor")."""
