"""ClusterKB's library: the knowledge base without its web front end.

Importing it registers :mod:`kb.turtle`'s serializers, so Turtle written by this process reads
back as the terms it holds.
"""

from kb.turtle import register_serializers

register_serializers()
