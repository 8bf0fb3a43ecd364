"""Jira object types as data: where each captured object refers to other objects, how it is named across sites.

``references`` holds the path language and the one walker that visits (and may rewrite) every reference of an
object; ``declarations`` says, once per object type, which paths of its captured JSON are references and to what,
which values are the server's own (ids, links), and how its objects are named; ``canonical`` turns a site's objects
into an id-free form (every reference replaced by what it names *on that site*) and compares two sites in words.
"""
