/** Node implementations of the I/O seam (filled in with the safetensors module). */
export {};
