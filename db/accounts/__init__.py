"""Users, their language, and roles (parent, operator, staff, admin) with their audit."""
