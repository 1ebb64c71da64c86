"""What moves the headline and how far it can fall: sensitivity (tornado), break-evens, the
risk range, and the decision they make together. Works on a template and scenario inputs."""
