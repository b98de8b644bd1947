"""British English dates as the site writes them: months in full ("5 March 2014"), where
Django's own en_GB format abbreviates them ("5 Mar 2014")."""

DATE_FORMAT = "j F Y"
