"""Widgets that draw what the screens hand them; none of them touches the database."""
