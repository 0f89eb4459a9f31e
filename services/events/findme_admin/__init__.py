"""``findme-admin``: the operators' command line (see ``findme_admin.cli``)."""
