"""Offline word lists and the shop's shape: taxonomy, size systems, co-purchase pairs.

Everything the generator draws from lives here so it runs with no download and
the same seed gives the same shop on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

# Real size systems: apparel letters, numeric waist (inches) with inseam lengths, EU and US shoe sizes.
LETTER_SIZES = ["XXS", "XS", "S", "M", "L", "XL", "XXL", "3XL"]
WAIST_SIZES = ["26", "28", "29", "30", "31", "32", "33", "34", "36", "38", "40", "42"]
INSEAMS = ["30", "32", "34"]
EU_SHOE_SIZES = ["35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47"]
US_SHOE_SIZES = ["5", "5.5", "6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "11.5", "12", "13"]
SOCK_SIZES = ["35-38", "39-42", "43-46"]


@dataclass(frozen=True)
class SizeSystem:
    option: str  # the product option's name
    values: list[str]
    measurement: str | None  # of the category attribute
    second: tuple[str, list[str]] | None = None  # an optional second size dimension (inseam)


SIZE_SYSTEMS: dict[str, SizeSystem] = {
    "letters": SizeSystem("Size", LETTER_SIZES, None),
    "waist": SizeSystem("Waist", WAIST_SIZES, "in", ("Length", INSEAMS)),
    "eu_shoe": SizeSystem("Shoe size", EU_SHOE_SIZES, "EU"),
    "us_shoe": SizeSystem("Shoe size", US_SHOE_SIZES, "US"),
    "socks": SizeSystem("Size", SOCK_SIZES, "EU"),
    "cookware": SizeSystem("Diameter", ["16 cm", "20 cm", "24 cm", "28 cm", "32 cm"], "cm"),
    "tent": SizeSystem("Capacity", ["1 person", "2 person", "3 person", "4 person", "6 person"], None),
    "pack": SizeSystem("Volume", ["10 L", "20 L", "30 L", "40 L", "55 L", "70 L"], "L"),
    "weights": SizeSystem("Weight", ["1 kg", "2 kg", "4 kg", "6 kg", "8 kg", "10 kg", "12 kg", "16 kg"], "kg"),
    "set": SizeSystem("Set", ["2 pieces", "4 pieces", "6 pieces", "12 pieces"], None),
}


@dataclass(frozen=True)
class Leaf:
    external_id: int
    name: str
    description: str
    parent: int
    sizes: str | None  # key of SIZE_SYSTEMS; None: one variant
    coloured: bool
    price: int  # typical price in the shop's currency
    nouns: list[str]
    materials: list[str]


# (external id, name, description, parent) of the inner nodes; levels follow from the parents.
BRANCHES = [
    (10, "Apparel", "Clothing and accessories for women and men", None),
    (11, "Women", "Women's clothing", 10),
    (12, "Men", "Men's clothing", 10),
    (13, "Accessories", "Socks, hats and belts", 10),
    (20, "Footwear", "Shoes, boots and sandals", None),
    (30, "Home", "Home and kitchen goods", None),
    (31, "Kitchen", "Cookware, pans and knives", 30),
    (32, "Tableware", "Mugs, plates and glasses", 30),
    (40, "Sports & Outdoors", "Camping, hiking and fitness gear", None),
    (41, "Camping", "Tents, backpacks and sleeping bags", 40),
    (42, "Fitness", "Training and yoga equipment", 40),
]
FABRICS = ["organic cotton", "cotton", "linen", "merino wool", "recycled polyester", "viscose", "cotton blend"]
LEAVES = [
    Leaf(
        111,
        "Women's Tops",
        "Blouses, tops and t-shirts for women",
        11,
        "letters",
        True,
        29,
        ["Blouse", "Tank Top", "Wrap Top", "Tee", "Camisole", "Tunic"],
        FABRICS,
    ),
    Leaf(
        112,
        "Dresses",
        "Summer dresses, maxi and midi dresses",
        11,
        "letters",
        True,
        69,
        ["Maxi Dress", "Midi Dress", "Shirt Dress", "Slip Dress", "Sundress"],
        FABRICS,
    ),
    Leaf(
        113,
        "Women's Jeans",
        "Skinny, straight and wide-leg jeans for women",
        11,
        "waist",
        True,
        79,
        ["Skinny Jeans", "Straight Jeans", "Wide Leg Jeans", "Mom Jeans"],
        ["denim", "stretch denim"],
    ),
    Leaf(
        121,
        "Men's T-Shirts",
        "Crew neck and v-neck t-shirts for men",
        12,
        "letters",
        True,
        25,
        ["Crew Tee", "V-Neck Tee", "Pocket Tee", "Henley", "Polo Shirt"],
        FABRICS,
    ),
    Leaf(
        122,
        "Men's Shirts",
        "Oxford, flannel and linen shirts",
        12,
        "letters",
        True,
        55,
        ["Oxford Shirt", "Flannel Shirt", "Linen Shirt", "Denim Shirt"],
        FABRICS,
    ),
    Leaf(
        123,
        "Men's Trousers",
        "Chinos, jeans and cargo trousers for men",
        12,
        "waist",
        True,
        69,
        ["Chino Trousers", "Slim Jeans", "Cargo Trousers", "Relaxed Jeans"],
        ["cotton twill", "denim"],
    ),
    Leaf(
        124,
        "Jackets",
        "Rain jackets, puffers and denim jackets",
        12,
        "letters",
        True,
        149,
        ["Rain Jacket", "Puffer Jacket", "Denim Jacket", "Fleece Jacket", "Parka"],
        ["nylon", "down", "fleece"],
    ),
    Leaf(
        131,
        "Socks",
        "Ankle, crew and hiking socks",
        13,
        "socks",
        True,
        9,
        ["Ankle Socks", "Crew Socks", "Hiking Socks", "No-Show Socks"],
        ["cotton", "merino wool", "bamboo"],
    ),
    Leaf(
        132,
        "Hats",
        "Beanies, caps and sun hats",
        13,
        None,
        True,
        22,
        ["Beanie", "Baseball Cap", "Bucket Hat", "Sun Hat"],
        ["wool", "cotton", "straw"],
    ),
    Leaf(
        133,
        "Belts",
        "Leather and canvas belts",
        13,
        "waist",
        True,
        35,
        ["Leather Belt", "Canvas Belt", "Braided Belt"],
        ["leather", "canvas"],
    ),
    Leaf(
        210,
        "Sneakers",
        "Running shoes, trainers and sneakers",
        20,
        "eu_shoe",
        True,
        95,
        ["Running Shoe", "Canvas Sneaker", "Trail Runner", "Court Sneaker", "High-Top Sneaker"],
        ["mesh", "canvas", "leather", "suede"],
    ),
    Leaf(
        220,
        "Boots",
        "Chelsea boots, hiking boots and work boots",
        20,
        "us_shoe",
        True,
        160,
        ["Chelsea Boot", "Hiking Boot", "Work Boot", "Ankle Boot"],
        ["leather", "suede", "nubuck"],
    ),
    Leaf(
        230,
        "Sandals",
        "Slides, flip-flops and strap sandals",
        20,
        "eu_shoe",
        True,
        45,
        ["Slide Sandal", "Strap Sandal", "Flip-Flop"],
        ["rubber", "leather", "cork"],
    ),
    Leaf(
        311,
        "Cookware",
        "Frying pans, skillets and stock pots",
        31,
        "cookware",
        False,
        59,
        ["Cast Iron Skillet", "Nonstick Frying Pan", "Stock Pot", "Saute Pan", "Wok"],
        ["cast iron", "stainless steel", "aluminium", "carbon steel"],
    ),
    Leaf(
        312,
        "Knives",
        "Chef knives, paring knives and knife blocks",
        31,
        None,
        False,
        79,
        ["Chef Knife", "Paring Knife", "Santoku Knife", "Bread Knife", "Knife Block"],
        ["stainless steel", "Damascus steel", "carbon steel"],
    ),
    Leaf(
        321,
        "Mugs",
        "Coffee mugs and travel mugs",
        32,
        None,
        True,
        15,
        ["Stoneware Mug", "Travel Mug", "Espresso Cup", "Latte Mug"],
        ["stoneware", "porcelain", "steel"],
    ),
    Leaf(
        322,
        "Plates",
        "Dinner plates and plate sets",
        32,
        "set",
        True,
        39,
        ["Dinner Plate", "Side Plate", "Pasta Bowl", "Serving Platter"],
        ["stoneware", "porcelain"],
    ),
    Leaf(
        411,
        "Tents",
        "Backpacking and family tents",
        41,
        "tent",
        True,
        229,
        ["Dome Tent", "Backpacking Tent", "Tunnel Tent"],
        ["ripstop nylon", "polyester"],
    ),
    Leaf(
        412,
        "Backpacks",
        "Daypacks and trekking backpacks",
        41,
        "pack",
        True,
        89,
        ["Daypack", "Trekking Backpack", "Roll-Top Pack"],
        ["ripstop nylon", "recycled polyester"],
    ),
    Leaf(
        421,
        "Yoga Mats",
        "Yoga and exercise mats",
        42,
        None,
        True,
        35,
        ["Yoga Mat", "Travel Yoga Mat", "Cork Yoga Mat"],
        ["natural rubber", "TPE", "cork"],
    ),
    Leaf(
        422,
        "Dumbbells",
        "Dumbbells and kettlebells",
        42,
        "weights",
        False,
        39,
        ["Hex Dumbbell", "Kettlebell", "Neoprene Dumbbell"],
        ["cast iron", "neoprene"],
    ),
]
# What a shop sells outside its taxonomy (no category fits it): left uncategorised, with the shop's own
# product type, for category suggestion to find no good match for.
GIFT_CARDS = Leaf(
    900,
    "Gift Cards",
    "Gift cards and vouchers",
    0,
    None,
    False,
    50,
    ["Gift Card", "E-Gift Card", "Voucher"],
    ["digital delivery", "printed card"],
)
# Leaves bought together (tops with jeans, shoes with socks, pans with knives ...): the baskets'
# co-purchase patterns. Each product of the first leaf has fixed partners in the second.
PAIRS = [
    (111, 113),
    (121, 123),
    (122, 123),
    (112, 230),
    (210, 131),
    (220, 131),
    (311, 312),
    (321, 322),
    (411, 412),
    (421, 422),
    (124, 132),
]

COLOURS = [
    "Black",
    "White",
    "Navy",
    "Grey",
    "Red",
    "Olive",
    "Beige",
    "Burgundy",
    "Sky Blue",
    "Forest Green",
    "Charcoal",
    "Mustard",
    "Rust",
    "Sand",
    "Pink",
    "Lavender",
    "Teal",
    "Brown",
]
BRAND_HEADS = [
    "North",
    "Fjord",
    "Base",
    "Urban",
    "Hearth",
    "Alder",
    "Copper",
    "Linden",
    "Stone",
    "Harbor",
    "Pine",
    "Summit",
    "Willow",
    "Ember",
    "Birch",
    "Cobalt",
    "Meadow",
    "Atlas",
    "Rowan",
    "Drift",
]
BRAND_TAILS = ["wind", " & Co", "camp", " Thread", "line", " Goods", " Supply", " Studio", "works", " Outfitters"]
ADJECTIVES = [
    "Classic",
    "Essential",
    "Everyday",
    "Heritage",
    "Lightweight",
    "Premium",
    "Relaxed",
    "Slim",
    "Vintage",
    "Urban",
    "Tailored",
    "Organic",
    "Performance",
    "Signature",
    "Weekend",
    "Modern",
    "Rugged",
    "Soft",
    "Recycled",
    "Original",
]
FEATURES = [
    "Machine washable.",
    "Designed to last for years.",
    "Ethically made in Portugal.",
    "Fits true to size.",
    "Water-resistant finish.",
    "Lifetime warranty.",
    "Made from certified materials.",
    "Pre-shrunk for a lasting fit.",
    "Reinforced seams.",
    "Dishwasher safe.",
    "Ships plastic-free.",
    "Easy to care for.",
    "Breathable and quick-drying.",
    "Ergonomic design.",
]
COMPETITORS = ["Amazon", "Walmart", "eBay", "Target", "Zalando", "Etsy", "Best Buy", "Otto"]
