"""City profiles, peer-city suggestions and Pilot/Twin pairing, built on the Covenant of Mayors registry."""
