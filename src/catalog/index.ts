/** Catalogue and reference data: SKUs with fitment, warehouses, carriers, lanes. */
export {};
