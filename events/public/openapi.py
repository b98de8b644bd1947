"""The OpenAPI schema of an event, written from the registry of public fields.

event_components() returns the Event object's schema and the schemas it refers to (its date,
the named references, the objects of each related list), as OpenAPI 3.0 component dicts. The
API's schema registers them (timeline.schema), so the documented object is the written one.
"""

from .fields import GROUPS, JSON_FIELDS, Kind, Origin, Value

KIND_SCHEMAS = {
    Kind.TEXT: {"type": "string"},
    Kind.CODE: {"type": "string"},
    Kind.DAY: {"type": "string", "format": "date"},
    Kind.MOMENT: {"type": "string", "format": "date-time"},
    Kind.BOOLEAN: {"type": "boolean"},
    Kind.DECIMAL: {"type": "string", "format": "decimal", "pattern": r"^-?\d{1,3}\.\d{5}$"},
    Kind.INTEGER: {"type": "integer", "format": "int64", "minimum": 0},
}
# Component names of the related lists' objects, as the API has always called them.
ITEM_COMPONENTS = {
    "actors": "ActorRole",
    "platforms": "PlatformRef",
    "tags": "TagRef",
    "citations": "Citation",
    "counts": "Count",
    "relations": "Relation",
}
NESTED_COMPONENTS = {("citations", "source"): "CitedSource"}


def _ref(name, nullable=False):
    if nullable:
        return {"allOf": [{"$ref": f"#/components/schemas/{name}"}], "nullable": True}
    return {"$ref": f"#/components/schemas/{name}"}


def _scalar(kind, *, description="", nullable=False, extra=None):
    schema = dict(KIND_SCHEMAS[kind])
    schema |= extra or {}
    if "enum" in schema and nullable:
        schema["enum"] = [*schema["enum"], None]
    if nullable:
        schema["nullable"] = True
    if description:
        schema["description"] = description
    return schema


def _object(properties, required=None):
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(required if required is not None else properties),
    }


def _item(list_name, item, components):
    properties = {}
    for key, value in item.items():
        if isinstance(value, Value):
            extra = {"enum": list(value.enum)} if value.enum else None
            properties[key] = _scalar(
                value.kind, description=value.description, nullable=value.nullable, extra=extra
            )
        else:
            name = NESTED_COMPONENTS[(list_name, key)]
            components[name] = _item(list_name, value, components)
            properties[key] = _ref(name)
    return _object(properties)


def _field_schema(public_field, components):
    if public_field.origin == Origin.RELATED:
        name = ITEM_COMPONENTS[public_field.name]
        components.setdefault(name, _item(public_field.name, public_field.item, components))
        return {"type": "array", "items": _ref(name), "description": public_field.description}
    return _scalar(
        public_field.kind,
        description=public_field.description,
        nullable=public_field.nullable,
        extra=public_field.schema,
    )


def event_components():
    """Return {component name: schema} for Event and everything it refers to."""
    components, properties, groups = {}, {}, {}
    for public_field in JSON_FIELDS:
        path = public_field.json_path
        schema = _field_schema(public_field, components)
        if len(path) == 1:
            properties[path[0]] = schema
            continue
        if path[0] not in groups:
            groups[path[0]] = {}
            properties[path[0]] = None  # placed here, in the registry's order
        groups[path[0]][path[1]] = schema
    for key, group_properties in groups.items():
        name = GROUPS[key]["component"]
        components[name] = _object(group_properties)
        properties[key] = _ref(name, nullable=GROUPS[key]["null_when"] is not None)
    components["Event"] = _object(properties)
    return components
