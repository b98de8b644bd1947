"""An event's public shape, declared once (fields), and the SQL that writes it (documents)."""
