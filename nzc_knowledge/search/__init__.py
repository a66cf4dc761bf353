"""Query -> filters -> lexical + dense -> fusion -> resources, facets, snippets."""
