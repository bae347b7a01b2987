"""Copy on request for the host app (POST /v1/content): variants written from a brief and
grounded in the brand's own help centre, through the copy check, with their cost."""
