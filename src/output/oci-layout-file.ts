/** The content of an OCI image layout's `oci-layout` file. */
export const OCI_LAYOUT_FILE = `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`;
