export { Vae, oneHot, type VaeConfig, type VaePass } from './vae.js';
